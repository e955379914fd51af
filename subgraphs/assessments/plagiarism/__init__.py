"""Plagiarism detection for code and text answers (issue 21).

- `tokens`: code through Python's own lexer with identifiers and literals normalised; text
  as lower-cased words; each token keeps its place in the answer.
- `fingerprints`: k-grams of tokens hashed and winnowed (MOSS), each with the span it covers.
- `minhash`: MinHash signatures of text shingles and their LSH band keys, so that a text answer
  meets only candidates sharing a band, never every other answer.
- `compare`: the score of two fingerprinted answers and their matched spans on both sides.
- `store`, `checker`: fingerprints and band keys per answer in PostgreSQL, a new answer
  compared through index lookups, the matches kept for instructors.
"""
