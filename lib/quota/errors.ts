/** Stable codes of quota action failures that stop a request before it starts. */
export const QuotaActionErrorCode = {
  projectNotFound: 'project_not_found',
  projectAmbiguous: 'project_ambiguous',
  invalidRequest: 'invalid_request',
  requestIdConflict: 'request_id_conflict',
  requestInProgress: 'request_in_progress',
} as const;
export type QuotaActionErrorCode =
  (typeof QuotaActionErrorCode)[keyof typeof QuotaActionErrorCode];

/** A request that names no project or more than one, or reuses a request id. */
export class QuotaActionError extends Error {
  override name = 'QuotaActionError';

  constructor(
    readonly code: QuotaActionErrorCode,
    message: string,
  ) {
    super(message);
  }
}
