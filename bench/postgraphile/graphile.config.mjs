// PostGraphile 5 for bench/compare.py: the amber preset over the bench database's public
// schema, no GraphiQL, no watch mode. DATABASE_URL and PORT come from compare.py.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { jsonPgSmartTags } from "postgraphile/utils";

// Our `subscription` table would be named `Subscription`, the root subscription type.
const renames = jsonPgSmartTags({
  version: 1,
  config: { class: { subscription: { tags: { name: "billing_subscription" } } } },
});

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  plugins: [renames],
  // Order and filter by any column (plans are shown by `position`, which has no index).
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] }),
  ],
  grafserv: { host: "127.0.0.1", port: Number(process.env.PORT), graphiql: false, watch: false },
  grafast: { explain: false },
};

export default preset;
