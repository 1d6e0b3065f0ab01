import {
  ConditionalCheckFailedException,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Condition, Item, ItemStore } from './items.js';

/**
 * Items in one DynamoDB table with string keys `pk` and `sk`, written with
 * conditional puts so that exactly one concurrent writer wins.
 */
export class DynamoItemStore implements ItemStore {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client?: DynamoDBClient | DynamoDBDocumentClient,
  ) {
    const base = client ?? new DynamoDBClient({});
    this.client =
      base instanceof DynamoDBDocumentClient
        ? base
        : DynamoDBDocumentClient.from(base, {
            marshallOptions: {
              removeUndefinedValues: true,
              convertClassInstanceToMap: true,
            },
          });
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk, sk },
        ConsistentRead: true,
      }),
    );

    return result.Item as Item | undefined;
  }

  async put(item: Item, condition?: Condition): Promise<boolean> {
    return this.conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...expression(condition),
        }),
      ),
    );
  }

  async delete(
    pk: string,
    sk: string,
    condition?: Condition,
  ): Promise<boolean> {
    return this.conditional(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk, sk },
          ...expression(condition),
        }),
      ),
    );
  }

  async query(
    pk: string,
    prefix: string,
    options: { limit?: number; descending?: boolean } = {},
  ): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ScanIndexForward: !options.descending,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
          Limit: options.limit,
        }),
      );
      items.push(...((result.Items ?? []) as Item[]));
      startKey = result.LastEvaluatedKey;
    } while (
      startKey &&
      (options.limit === undefined || items.length < options.limit)
    );

    return options.limit === undefined ? items : items.slice(0, options.limit);
  }

  private async conditional(send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if (
        (error as { name?: string }).name === 'ConditionalCheckFailedException'
      )
        return false;
      throw error;
    }
  }
}

/** Turns a condition into DynamoDB expression fields. */
export function expression(condition: Condition | undefined): {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  if (condition === undefined) return {};
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  let counter = 0;
  const name = (attribute: string) => {
    const placeholder = `#n${counter++}`;
    names[placeholder] = attribute;
    return placeholder;
  };
  const value = (content: unknown) => {
    const placeholder = `:v${counter++}`;
    values[placeholder] = content;
    return placeholder;
  };
  const render = (inner: Condition): string => {
    if ('attributeNotExists' in inner)
      return `attribute_not_exists(${name('pk')})`;
    if ('or' in inner) return `(${inner.or.map(render).join(' OR ')})`;
    if ('and' in inner) return `(${inner.and.map(render).join(' AND ')})`;
    if ('equals' in inner)
      return `${name(inner.equals[0])} = ${value(inner.equals[1])}`;
    return `${name(inner.lessThan[0])} < ${value(inner.lessThan[1])}`;
  };
  const text = render(condition);

  return {
    ConditionExpression: text,
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0
      ? { ExpressionAttributeValues: values }
      : {}),
  };
}
