"""What next for a learner: courses from co-enrollment and completion patterns (item-based
collaborative filtering) blended with content similarity, each with its reasons."""
