import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Notification, Notifier } from './port.js';
import { cleanSubject } from './subject.js';

/**
 * Publishes to an SNS topic with `MessageStructure: json`: email subscribers
 * get the readable text, every other protocol the JSON data. The SDK retries
 * throttling and server errors itself (`maxAttempts`).
 */
export class SnsNotifier implements Notifier {
  private readonly client: SNSClient;

  constructor(
    private readonly topicArn: string,
    client?: SNSClient,
  ) {
    this.client = client ?? new SNSClient({ maxAttempts: 4 });
  }

  async publish(notification: Notification): Promise<{ messageId: string }> {
    const json = JSON.stringify(notification.data);
    const message = {
      default: notification.text,
      email: notification.text,
      'email-json': json,
      sqs: json,
      lambda: json,
      http: json,
      https: json,
    };
    const result = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: cleanSubject(notification.subject),
        Message: JSON.stringify(message),
        MessageStructure: 'json',
        MessageAttributes: {
          event: { DataType: 'String', StringValue: notification.event },
          project: {
            DataType: 'String',
            StringValue: notification.project?.id ?? 'account',
          },
          level: { DataType: 'String', StringValue: notification.level },
        },
      }),
    );

    return { messageId: result.MessageId ?? '' };
  }
}
