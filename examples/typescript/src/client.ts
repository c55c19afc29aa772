// A tiny GraphQL client over fetch: sends a typed document, answers its typed data, and turns
// GraphQL errors into an exception that keeps their codes (extensions.code).
import type { TypedDocumentString } from "./gql/graphql";

export interface GraphQLErrorEntry {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; requestId?: string; [key: string]: unknown };
}

export class GraphQLRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: GraphQLErrorEntry[],
  ) {
    super(errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`).join("; "));
  }
}

export interface ClientOptions {
  url: string; // e.g. http://127.0.0.1:8000/graphql
  token?: string; // a bearer token (`billing token --role ...`); none for public fields
}

export async function execute<Result, Variables>(
  options: ClientOptions,
  document: TypedDocumentString<Result, Variables>,
  ...[variables]: Variables extends Record<string, never> ? [] : [Variables]
): Promise<Result> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    // 4xx with the errors for a malformed request, 200 otherwise (GraphQL over HTTP)
    Accept: "application/graphql-response+json, application/json;q=0.9",
  };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const response = await fetch(options.url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const body = (await response.json()) as { data?: Result | null; errors?: GraphQLErrorEntry[] };
  if (body.errors?.length || body.data == null) {
    throw new GraphQLRequestError(response.status, body.errors ?? []);
  }
  return body.data;
}
