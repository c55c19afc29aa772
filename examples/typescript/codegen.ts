// graphql-codegen reads the committed schema and the operations in src/, and writes typed
// documents to src/gql/ (generated, not committed: run `npx graphql-codegen` here).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // documents as strings: the client needs no GraphQL runtime, only fetch
        documentMode: "string",
        useTypeImports: true,
        enumsAsTypes: true,
        // every custom scalar mapped (schema/scalars.py), so none falls back to `any`
        strictScalars: true,
        scalars: {
          Date: "string", // "2026-03-15"
          DateTime: "string", // "2026-03-15T09:30:00Z"
          Long: "number", // a whole number within +-(2^53 - 1): exact in a JS number
          JSON: "unknown",
        },
      },
    },
  },
};

export default config;
