// Runs graphql-http's GraphQL-over-HTTP server audits against a URL and prints the results
// as JSON, one object per audit: {id, name, status: "ok" | "warn" | "error", reason}.
// Usage: node tests/http_audit.mjs http://127.0.0.1:8000/graphql
//
// The audits are loaded from their file: the package's main entry also loads its server,
// which needs the `graphql` package (a peer dependency this project does not install).
import { serverAudits } from '../node_modules/graphql-http/lib/audits/server.mjs';

const url = process.argv[2];
if (!url) {
  console.error('usage: node tests/http_audit.mjs <graphql endpoint URL>');
  process.exit(2);
}
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  results.push({
    id: audit.id,
    name: audit.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  });
}
console.log(JSON.stringify(results, null, 2));
