// Starts GraphiQL on the page served at a GraphQL endpoint (no inline script: the page's
// Content-Security-Policy allows only scripts served from the same origin).
// Queries and mutations go over HTTP POST to the page's own URL; subscriptions over a
// WebSocket to the same URL (graphql-transport-ws, graphql-ws's client bundled in
// GraphiQL). The headers pane's entries, e.g. {"Authorization": "Bearer <token>"}, are
// sent as the connection_init payload of each subscription's socket.
(function () {
  "use strict";
  var url = window.location.pathname;
  var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: scheme + "//" + window.location.host + url,
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, { fetcher: fetcher })
  );
})();
