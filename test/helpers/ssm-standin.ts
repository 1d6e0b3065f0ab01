import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An SSM Parameter Store stand-in on 127.0.0.1 for `GetParameter`, in the
 * JSON 1.1 protocol the AWS SDK v3 SSM client speaks. It counts reads, so
 * tests can check that secrets are cached.
 */
export class SsmStandIn {
  readonly reads: { name: string; withDecryption: boolean }[] = [];
  private readonly server: Server;
  private url = '';

  private constructor(private readonly parameters: Record<string, string>) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const body = JSON.parse(
          Buffer.concat(chunks).toString('utf8') || '{}',
        ) as { Name?: string; WithDecryption?: boolean };
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (target !== 'AmazonSSM.GetParameter') {
          res.writeHead(400).end(
            JSON.stringify({
              __type: 'UnknownOperationException',
              message: target,
            }),
          );
          return;
        }
        const name = body.Name ?? '';
        this.reads.push({ name, withDecryption: body.WithDecryption === true });
        const value = this.parameters[name];
        if (value === undefined) {
          res.writeHead(400).end(
            JSON.stringify({
              __type: 'ParameterNotFound',
              message: `parameter ${name} not found`,
            }),
          );
          return;
        }
        res.writeHead(200).end(
          JSON.stringify({
            Parameter: {
              Name: name,
              Type: 'SecureString',
              Value: value,
              Version: 1,
            },
          }),
        );
      });
    });
  }

  static async start(parameters: Record<string, string>): Promise<SsmStandIn> {
    const standIn = new SsmStandIn(parameters);
    await new Promise<void>((resolve) =>
      standIn.server.listen(0, '127.0.0.1', () => resolve()),
    );
    standIn.url = `http://127.0.0.1:${(standIn.server.address() as AddressInfo).port}`;

    return standIn;
  }

  get endpoint(): string {
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
