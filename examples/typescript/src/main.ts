// Usage: BILLING_URL=http://127.0.0.1:8000/graphql BILLING_TOKEN=... node main.js
// Prints the plans' prices, then every billable member of a namespace, page by page.
import { execute, type ClientOptions } from "./client";
import { plansDocument, seatPageDocument } from "./queries";
import type { BillableMemberSort, SeatPageQuery, SeatPageQueryVariables } from "./gql/graphql";

export async function listPlans(options: ClientOptions): Promise<string[]> {
  const { plans } = await execute(options, plansDocument, { currency: "USD" });
  return plans.map((plan) => {
    const annual = plan.prices.find((price) => price.billingPeriod === "ANNUAL");
    // `amount` is a decimal string: keep it as text (or use a decimal library), never a float
    return `${plan.code}: ${annual ? `${annual.unitAmount.amount} ${annual.unitAmount.currency}` : "-"}`;
  });
}

export async function billableUsernames(
  options: ClientOptions,
  path: string,
  sort: BillableMemberSort = "LAST_JOINED",
): Promise<string[]> {
  const usernames: string[] = [];
  let after: string | null = null;
  for (;;) {
    const variables: SeatPageQueryVariables = { path, first: 100, after, sort };
    const data: SeatPageQuery = await execute(options, seatPageDocument, variables);
    const page = data.namespace?.billableMembers;
    if (!page) break;
    usernames.push(...page.edges.map((edge) => edge.node.username));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return usernames;
}
