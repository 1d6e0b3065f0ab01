import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Publish call as the stand-in received it. */
export interface PublishedMessage {
  topicArn: string;
  subject: string | undefined;
  message: string;
  messageStructure: string | undefined;
  attributes: Record<string, { dataType: string; value: string }>;
}

/**
 * An SNS stand-in on 127.0.0.1 that speaks the Query protocol the AWS SDK v3
 * SNS client uses for Publish, records every message, and can fail the next
 * N calls with a 500 so that SDK retries and failure paths can be tested.
 */
export class SnsStandIn {
  readonly published: PublishedMessage[] = [];
  /** Publish calls received, failed ones included. */
  calls = 0;
  private failures = 0;
  private readonly server: Server;
  private url = '';

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const form = new URLSearchParams(
          Buffer.concat(chunks).toString('utf8'),
        );
        this.calls++;
        if (form.get('Action') !== 'Publish') {
          res.writeHead(400, { 'content-type': 'text/xml' });
          res.end(
            errorXml(
              'InvalidAction',
              `unsupported action ${form.get('Action')}`,
            ),
          );
          return;
        }
        if (this.failures > 0) {
          this.failures--;
          res.writeHead(500, { 'content-type': 'text/xml' });
          res.end(errorXml('InternalError', 'injected failure'));
          return;
        }
        this.published.push(readPublish(form));
        const messageId = randomUUID();
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
        );
      });
    });
  }

  static async start(): Promise<SnsStandIn> {
    const standIn = new SnsStandIn();
    await new Promise<void>((resolve) =>
      standIn.server.listen(0, '127.0.0.1', () => resolve()),
    );
    standIn.url = `http://127.0.0.1:${(standIn.server.address() as AddressInfo).port}`;

    return standIn;
  }

  get endpoint(): string {
    return this.url;
  }

  /** Fails the next `count` Publish calls with HTTP 500. */
  failNext(count: number): void {
    this.failures = count;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readPublish(form: URLSearchParams): PublishedMessage {
  const attributes: PublishedMessage['attributes'] = {};
  for (
    let index = 1;
    form.has(`MessageAttributes.entry.${index}.Name`);
    index++
  ) {
    const prefix = `MessageAttributes.entry.${index}`;
    attributes[form.get(`${prefix}.Name`) as string] = {
      dataType: form.get(`${prefix}.Value.DataType`) ?? '',
      value: form.get(`${prefix}.Value.StringValue`) ?? '',
    };
  }

  return {
    topicArn: form.get('TopicArn') ?? '',
    subject: form.get('Subject') ?? undefined,
    message: form.get('Message') ?? '',
    messageStructure: form.get('MessageStructure') ?? undefined,
    attributes,
  };
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Receiver</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}
