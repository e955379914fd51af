// Apollo Gateway as a test oracle for tests/differential (Apollo's code is a test oracle only).
//   node oracle.mjs compose <dir>               compose <dir>/subgraphs/*.graphql, print the supergraph
//   node oracle.mjs serve <supergraph> <port>   serve @apollo/gateway on 127.0.0.1:<port>
// Subgraph URLs in composed supergraphs are http://subgraphs.invalid/<name>/graphql; the harness puts
// the real address in before both gateways get the same text.
import { readFileSync, readdirSync } from "node:fs";
import { join, basename } from "node:path";

const [mode, ...args] = process.argv.slice(2);

if (mode === "compose") {
  const { composeServices } = await import("@apollo/composition");
  const { parse } = await import("graphql");
  const dir = join(args[0], "subgraphs");
  const services = readdirSync(dir)
    .filter((file) => file.endsWith(".graphql"))
    .sort()
    .map((file) => {
      const name = basename(file, ".graphql");
      const typeDefs = parse(readFileSync(join(dir, file), "utf8"));
      return { name, url: `http://subgraphs.invalid/${name}/graphql`, typeDefs };
    });
  const result = composeServices(services);
  if (result.errors?.length) {
    for (const error of result.errors) console.error(String(error));
    process.exit(1);
  }
  process.stdout.write(result.supergraphSdl);
} else if (mode === "serve") {
  const { ApolloServer } = await import("@apollo/server");
  const { ApolloGateway } = await import("@apollo/gateway");
  const { startStandaloneServer } = await import("@apollo/server/standalone");
  const supergraphSdl = readFileSync(args[0], "utf8");
  const gateway = new ApolloGateway({ supergraphSdl });
  const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
  const { url } = await startStandaloneServer(server, {
    listen: { port: parseInt(args[1], 10), host: "127.0.0.1" },
  });
  console.log(`ready ${url}`);
} else {
  console.error("usage: node oracle.mjs compose <dir> | serve <supergraph> <port>");
  process.exit(2);
}
