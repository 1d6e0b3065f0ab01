import type { CutMode } from '../state/types.js';
import type { ActionOutcome } from './types.js';

/** A cut the check asks for after a cut-level crossing. */
export interface CutRequest {
  /** Stable per crossing (`cut:<project>:<period>`), so retries apply once. */
  requestId: string;
  project: { id: string; name: string };
  period: string;
  mode: CutMode;
  reason: string;
}

/** Hands cut requests to whatever performs them. */
export interface CutRequester {
  /**
   * True when the `budget.cut_requested` notification is itself the request,
   * as with SNS in AWS; a failed publish then means a failed request.
   */
  readonly viaNotification: boolean;
  request(request: CutRequest): Promise<ActionOutcome>;
}

/**
 * The AWS requester: the quota-action function receives the published
 * `budget.cut_requested` event, so there is nothing more to send.
 */
export const eventCutRequester: CutRequester = {
  viaNotification: true,
  async request(request) {
    return {
      type: 'cut',
      mode: request.mode,
      status: 'requested',
      requestId: request.requestId,
    };
  },
};
