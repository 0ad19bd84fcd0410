/**
 * Fault injection for the X sandbox: make the next answers of an endpoint fail the ways X fails.
 * The sandboxes' common SandboxFaults (sandbox/common/faults.ts) over X's endpoints, drawing from
 * the `x-faults` stream of the seed. For writes (follow, unfollow), `apply` makes the request take
 * effect in the world before the fault answers, as when X did the work but the answer was lost.
 */
import {
  type ActiveFault as CommonActiveFault,
  type FaultKind,
  type FaultSpec,
  SandboxFaults,
} from '../common/faults.ts';
import type { XEndpoint } from './limits.ts';

/** See FaultKind: `500`, `503`, `429`, `timeout`, `malformed`, `truncated`. */
export type XFaultKind = FaultKind;

export type XFaultSpec = FaultSpec<XEndpoint>;

export type ActiveFault = CommonActiveFault<XEndpoint>;

export class XFaults extends SandboxFaults<XEndpoint> {
  constructor(seed = 0) {
    super(seed, 'x-faults');
  }
}
