/** One invalid field of the config: its dotted path and what is allowed. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** The config file is missing, unreadable or invalid; the CLI exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
    summary = 'invalid config',
  ) {
    super(
      [
        `${summary} ${file}:`,
        ...issues.map(
          (issue) => `  ${issue.path || '(top level)'}: ${issue.message}`,
        ),
      ].join('\n'),
    );
  }
}
