// The operations this example uses; graphql-codegen types each one from schema.graphql.
import { graphql } from "./gql";

export const plansDocument = graphql(`
  query Plans($currency: String) {
    plans(currency: $currency) {
      code
      name
      excludesGuests
      prices {
        billingPeriod
        validFrom
        unitAmount {
          amount
          currency
          minorUnits
        }
      }
    }
  }
`);

export const seatPageDocument = graphql(`
  query SeatPage($path: String!, $first: Int, $after: String, $sort: BillableMemberSort!) {
    namespace(path: $path) {
      name
      subscription {
        seats
        seatsInUse
        maxSeatsUsed
        seatsOwed
      }
      billableMembers(first: $first, after: $after, sort: $sort) {
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            username
            name
            highestRole
            membershipType
            lastJoinedAt
          }
        }
      }
    }
  }
`);
