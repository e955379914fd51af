"""QTI import and export of question banks: IMS QTI 2.1 and 3.0 content packages.

- `names`: the two versions' spellings of the same elements, attributes and templates.
- `items`: one question to one assessmentItem and back (what maps, what is reported).
- `package`: the zip (imsmanifest.xml + an item per question), read with the bounds of
  common/safe_zip and common/safe_xml.
"""
