"""IMS Common Cartridge 1.3: a course out as an .imscc package, and in as a draft.

- `names`: the spec's namespaces, resource types and our own extension's names.
- `outline`: what travels, as plain data (a course, its modules, lessons and files).
- `writer`: an outline to a cartridge (imsmanifest.xml, a web page per lesson, its files).
- `reader`: a cartridge to an outline and a report item by item, with the bounds of
  common/safe_zip and common/safe_xml.
- `lti_links`: LTI links as basic LTI link files, and matching them to tools registered
  here on import.
- `jobs`: imports as background jobs: queued, run beside the subgraph, one transaction.
- `download`: the signed link to an export and the route that builds it.
- `schema`: the GraphQL surface.
"""
