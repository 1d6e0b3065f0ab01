import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  crossingMessage,
  dataMessage,
  type MessageContext,
} from '../../lib/check/messages.js';
import type { PeriodResult } from '../../lib/check/types.js';
import { LocalNotifier } from '../../lib/notify/local.js';
import { EVENTS, type Notification } from '../../lib/notify/port.js';
import { SnsNotifier } from '../../lib/notify/sns.js';
import { cleanSubject, MAX_SUBJECT_LENGTH } from '../../lib/notify/subject.js';
import { useTempFolder } from '../helpers/config-temp-folder.js';
import { SnsStandIn } from '../helpers/sns-standin.js';

const TOPIC_ARN = 'arn:aws:sns:eu-central-1:000000000000:budget-guard-alerts';
const PROJECT_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

const context: MessageContext = {
  runId: 'run-1',
  runAtMs: Date.parse('2026-03-29T10:00:00Z'),
  subjectPrefix: '[budget-guard]',
  dayConvention:
    'UTC days from daily buckets: a day ends at 03:00 Europe/Moscow',
};

const overDay: PeriodResult = {
  kind: 'day',
  key: '2026-03-29',
  spentKopecks: 123_456_789,
  limitKopecks: 100_000_000,
  level: 'cut',
  complete: false,
};

/** Builds a crossing notification for a project with the given name. */
function crossing(name: string): Notification {
  return crossingMessage(
    context,
    { id: PROJECT_ID, name },
    overDay,
    'ok',
    { type: 'cut', mode: 'freeze', status: 'requested' },
    EVENTS.cutRequested,
  );
}

/** The subject text in front of the project name. */
const LEAD = '[budget-guard] CUT ';
const CYRILLIC = 'абвгдежзийклмнопрстуфхцчшщэюя';
/** An 80-character Cyrillic project name without spaces. */
const NAME_80 = CYRILLIC.repeat(3).slice(0, 80);
/** Man, woman, girl joined by ZWJ: one grapheme of 8 UTF-16 units. */
const FAMILY = '👨\u200d👩\u200d👧';
/** "й" as "и" plus a combining breve: one grapheme of 2 units. */
const SHORT_I = 'и\u0306';
/** Half of a surrogate pair without its other half. */
const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('cleanSubject', () => {
  it('keeps a short subject as it is', () => {
    expect(cleanSubject('[budget-guard] OVER shop: day 2026-03-29')).toBe(
      '[budget-guard] OVER shop: day 2026-03-29',
    );
  });

  it.each([
    ['CR and LF', 'a\r\nb', 'a b'],
    ['a tab', 'a\tb', 'a b'],
    ['NUL and DEL', 'a\u0000b\u007fc', 'a b c'],
    ['C1 controls', 'a\u0085b\u009bc', 'a b c'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a b c'],
    ['runs of spaces', '  a   \n\n  b  ', 'a b'],
  ])('turns %s into single spaces', (_case, text, expected) => {
    expect(cleanSubject(text)).toBe(expected);
  });

  it.each([
    // [input length, output]: 99 units fit, 100 are cut to 98 and "…".
    [99, 'x'.repeat(99)],
    [100, `${'x'.repeat(98)}…`],
    [500, `${'x'.repeat(98)}…`],
  ])('gives %i units at most 99', (length, expected) => {
    const subject = cleanSubject('x'.repeat(length));

    expect(subject).toBe(expected);
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
  });

  it('cuts a Cyrillic crossing subject', () => {
    const message = crossing(NAME_80);

    const subject = cleanSubject(message.subject);

    // LEAD is 19 units, so 98 units hold LEAD and 79 letters of the name.
    expect(message.subject.startsWith(`${LEAD}${NAME_80}: day`)).toBe(true);
    expect(subject).toBe(`${LEAD}${NAME_80.slice(0, 79)}…`);
    expect(subject).toHaveLength(99);
  });

  it('keeps an emoji whole at the cut', () => {
    // 19 + 77 = 96 units, and the 8-unit family would end at 104, past 98.
    const name = `${'а'.repeat(77)}${FAMILY}${'б'.repeat(3)}`;

    const subject = cleanSubject(crossing(name).subject);

    expect(subject).toBe(`${LEAD}${'а'.repeat(77)}…`);
  });

  it('keeps a combining mark with its letter', () => {
    // 19 + 78 = 97 units, and "и" with its breve would end at 99, past 98.
    const name = `${'а'.repeat(78)}${SHORT_I}${'б'.repeat(3)}`;

    const subject = cleanSubject(crossing(name).subject);

    expect(subject).toBe(`${LEAD}${'а'.repeat(78)}…`);
    expect(subject.normalize('NFC')).not.toContain('и');
  });

  it('keeps graphemes that fit before the cut', () => {
    // Each "й" is 2 units: 19 + 2 * 39 = 97, a 40th would end at 99.
    const name = SHORT_I.repeat(45);

    const subject = cleanSubject(crossing(name).subject);

    expect(subject).toBe(`${LEAD}${SHORT_I.repeat(39)}…`);
    expect(subject).toHaveLength(98);
  });

  it('flattens line breaks inside a name', () => {
    const message = crossing('shop\r\nbilling\tteam');

    const subject = cleanSubject(message.subject);

    expect(subject).toBe(
      '[budget-guard] CUT shop billing team: day 2026-03-29 1 234 567.89/1 000 000.00 RUB',
    );
  });

  it('stays short, flat and well formed', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 300 });

    fc.assert(
      fc.property(text, (raw) => {
        const subject = cleanSubject(raw);

        expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
        expect(subject).not.toMatch(/[\p{Cc}\p{Zl}\p{Zp}]/u);
        expect(subject).not.toMatch(LONE_SURROGATE);
      }),
      { numRuns: 500 },
    );
  });
});

describe('SnsNotifier with the SNS stand-in', () => {
  let standIn: SnsStandIn;
  beforeAll(async () => {
    standIn = await SnsStandIn.start();
  });
  afterAll(async () => {
    await standIn.close();
  });
  afterEach(() => {
    standIn.published.length = 0;
    standIn.calls = 0;
    standIn.failNext(0);
  });

  /** Builds a notifier whose SDK client targets the stand-in. */
  function notifier(maxAttempts = 3): SnsNotifier {
    const client = new SNSClient({
      endpoint: standIn.endpoint,
      region: 'eu-central-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
      maxAttempts,
    });

    return new SnsNotifier(TOPIC_ARN, client);
  }

  it('publishes one JSON-structured message', async () => {
    const message = crossing(`shop\n${NAME_80}`);

    const { messageId } = await notifier().publish(message);

    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(standIn.published).toHaveLength(1);
    const [published] = standIn.published;
    expect(published?.topicArn).toBe(TOPIC_ARN);
    expect(published?.messageStructure).toBe('json');
    expect(published?.subject).toBe(cleanSubject(message.subject));
    expect(published?.subject).not.toMatch(/\n/);
  });

  it('sends text to email and JSON to machines', async () => {
    const message = crossing('shop');

    await notifier().publish(message);

    const body = JSON.parse(standIn.published[0]?.message ?? '{}');
    expect(Object.keys(body).sort()).toEqual([
      'default',
      'email',
      'email-json',
      'http',
      'https',
      'lambda',
      'sqs',
    ]);
    expect(body.default).toBe(message.text);
    expect(body.email).toBe(message.text);
    expect(body.email).toContain(`Project: shop (${PROJECT_ID})`);
    for (const protocol of ['sqs', 'lambda', 'http', 'https', 'email-json']) {
      expect(JSON.parse(body[protocol])).toEqual(message.data);
    }
    expect(JSON.parse(body.sqs)).toMatchObject({
      event: 'budget.cut_requested',
      project: { id: PROJECT_ID, name: 'shop' },
      level: 'cut',
      spent: 1_234_567.89,
      limit: 1_000_000,
    });
  });

  it('sets event, project and level attributes', async () => {
    await notifier().publish(crossing('shop'));

    expect(standIn.published[0]?.attributes).toEqual({
      event: { dataType: 'String', value: 'budget.cut_requested' },
      project: { dataType: 'String', value: PROJECT_ID },
      level: { dataType: 'String', value: 'cut' },
    });
  });

  it('names the account project "account"', async () => {
    const message = dataMessage(
      context,
      null,
      'stale',
      'old data',
      '2026-03-29',
    );

    await notifier().publish(message);

    expect(standIn.published[0]?.attributes).toEqual({
      event: { dataType: 'String', value: 'budget.data_quality' },
      project: { dataType: 'String', value: 'account' },
      level: { dataType: 'String', value: 'stale' },
    });
  });

  it('succeeds after two 500 responses', async () => {
    standIn.failNext(2);

    const { messageId } = await notifier(3).publish(crossing('shop'));

    expect(messageId).not.toBe('');
    expect(standIn.calls).toBe(3);
    expect(standIn.published).toHaveLength(1);
  });

  it('rejects when every attempt fails', async () => {
    standIn.failNext(10);

    const error = await notifier(3)
      .publish(crossing('shop'))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Error);
    expect((error as { $metadata?: object }).$metadata).toMatchObject({
      httpStatusCode: 500,
      attempts: 3,
    });
    expect(standIn.calls).toBe(3);
    expect(standIn.published).toHaveLength(0);
  });
});

describe('SnsNotifier with a mocked client', () => {
  const client = new SNSClient({
    region: 'eu-central-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  });
  const sns = mockClient(client);
  afterEach(() => sns.reset());
  afterAll(() => sns.restore());

  it('sends the PublishCommand input', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
    const message = crossing('shop\tteam');

    const result = await new SnsNotifier(TOPIC_ARN, client).publish(message);

    expect(result).toEqual({ messageId: 'message-1' });
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input).toEqual({
      TopicArn: TOPIC_ARN,
      Subject:
        '[budget-guard] CUT shop team: day 2026-03-29 1 234 567.89/1 000 000.00 RUB',
      Message: expect.any(String),
      MessageStructure: 'json',
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'budget.cut_requested' },
        project: { DataType: 'String', StringValue: PROJECT_ID },
        level: { DataType: 'String', StringValue: 'cut' },
      },
    });
    expect(JSON.parse(input?.Message ?? '{}').email).toBe(message.text);
  });

  it('returns an empty id when SNS gives none', async () => {
    sns.on(PublishCommand).resolves({});

    const result = await new SnsNotifier(TOPIC_ARN, client).publish(
      crossing('shop'),
    );

    expect(result).toEqual({ messageId: '' });
  });

  it('passes a rejection on', async () => {
    sns.on(PublishCommand).rejects(new Error('topic not found'));

    const publishing = new SnsNotifier(TOPIC_ARN, client).publish(
      crossing('shop'),
    );

    await expect(publishing).rejects.toThrow('topic not found');
  });
});

describe('LocalNotifier', () => {
  const folder = useTempFolder('budget-guard-outbox-');

  /** Creates a stream that keeps what is written to it. */
  function capture(): { stream: Writable; text: () => string } {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });

    return { stream, text: () => chunks.join('') };
  }

  it('appends one JSON line per message', async () => {
    const outbox = join(folder(), 'nested', 'outbox.jsonl');
    const notifier = new LocalNotifier(outbox);
    const first = crossing('shop\r\nteam');
    const second = dataMessage(context, null, 'no_data', null, '2026-03-29');

    const sent = [
      await notifier.publish(first),
      await notifier.publish(second),
    ];

    const lines = (await readFile(outbox, 'utf8')).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const records = lines.slice(0, 2).map((line): unknown => JSON.parse(line));
    expect(records[0]).toEqual({
      messageId: sent[0]?.messageId,
      at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      event: 'budget.cut_requested',
      project: { id: PROJECT_ID, name: 'shop\r\nteam' },
      level: 'cut',
      subject:
        '[budget-guard] CUT shop team: day 2026-03-29 1 234 567.89/1 000 000.00 RUB',
      text: first.text,
      data: first.data,
    });
    expect(records[1]).toMatchObject({
      messageId: sent[1]?.messageId,
      event: 'budget.data_quality',
      project: null,
      level: 'no_data',
    });
  });

  it('keeps sent messages in order', async () => {
    const notifier = new LocalNotifier(undefined);
    const first = crossing('a');
    const second = crossing('b');

    await notifier.publish(first);
    await notifier.publish(second);

    expect(notifier.sent).toEqual([first, second]);
  });

  it('prints the subject and the indented text', async () => {
    const output = capture();
    const notifier = new LocalNotifier(undefined, output.stream);

    await notifier.publish(crossing('shop'));

    const printed = output.text();
    expect(printed).toContain(
      '✉ [budget-guard] CUT shop: day 2026-03-29 1 234 567.89/1 000 000.00 RUB\n',
    );
    expect(printed).toContain(`  Project: shop (${PROJECT_ID})\n`);
  });
});
