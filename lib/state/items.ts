/** A stored item: a partition key, a sort key and JSON attributes. */
export interface Item {
  pk: string;
  sk: string;
  [attribute: string]: unknown;
}

type Scalar = string | number | boolean;

/**
 * Conditions both adapters understand: DynamoDB turns them into a
 * `ConditionExpression`, the file store evaluates them on the stored item.
 * On a missing item every test but `attributeNotExists` is false.
 */
export type Condition =
  | { attributeNotExists: true }
  | { equals: [attribute: string, value: Scalar] }
  | { lessThan: [attribute: string, value: number] }
  | { or: Condition[] }
  | { and: Condition[] };

/** Low-level storage that the state store is written against. */
export interface ItemStore {
  get(pk: string, sk: string): Promise<Item | undefined>;
  /** Writes the item if the condition holds; returns false when it does not. */
  put(item: Item, condition?: Condition): Promise<boolean>;
  delete(pk: string, sk: string, condition?: Condition): Promise<boolean>;
  /** Items of a partition whose sort key starts with `prefix`, by sort key. */
  query(
    pk: string,
    prefix: string,
    options?: { limit?: number; descending?: boolean },
  ): Promise<Item[]>;
}

/** Evaluates a condition against the stored item, as DynamoDB would. */
export function conditionHolds(
  condition: Condition | undefined,
  item: Item | undefined,
): boolean {
  if (condition === undefined) return true;
  if ('attributeNotExists' in condition) return item === undefined;
  if ('or' in condition)
    return condition.or.some((inner) => conditionHolds(inner, item));
  if ('and' in condition)
    return condition.and.every((inner) => conditionHolds(inner, item));
  if (item === undefined) return false;
  if ('equals' in condition) {
    const [attribute, value] = condition.equals;
    return item[attribute] === value;
  }
  const [attribute, value] = condition.lessThan;
  const stored = item[attribute];

  return typeof stored === 'number' && stored < value;
}

/** Returns whether an item's `expiresAt` (epoch seconds) has passed. */
export function isExpired(item: Item, nowMs: number): boolean {
  return typeof item.expiresAt === 'number' && item.expiresAt * 1000 < nowMs;
}
