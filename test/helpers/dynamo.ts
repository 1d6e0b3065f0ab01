import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

/** Starts dynalite in memory on 127.0.0.1 with a client for it. */
export async function startDynalite() {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'eu-central-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  let tables = 0;

  return {
    endpoint,
    client,
    /** Creates a table keyed like the state table (`pk`, `sk`) or by `id`. */
    async createTable(
      name = `state-${++tables}`,
      keys: 'pk-sk' | 'id' = 'pk-sk',
    ) {
      const attributes = keys === 'id' ? ['id'] : ['pk', 'sk'];
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: attributes.map((attribute) => ({
            AttributeName: attribute,
            AttributeType: 'S',
          })),
          KeySchema: attributes.map((attribute, index) => ({
            AttributeName: attribute,
            KeyType: index === 0 ? 'HASH' : 'RANGE',
          })),
        }),
      );
      return name;
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
