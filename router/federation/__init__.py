"""Federation's shared model: the specs, their `@link`s, field sets, type references and
authorization requirements, as both composition (build time) and the router (run time) read
them. It imports nothing else of `router`."""
