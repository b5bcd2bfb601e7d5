// Control messages on <prefix>/simulator/set, applied: the schema and the parser are the
// contract's (contract/control.ts).
import type { Fault } from './rtsp/faults.ts';
import { parseControl, type ControlMessage } from '../contract/control.ts';

export { parseControl, type ControlMessage };

export interface ControlTarget {
  setCount(n: number): void;
  setFault(cameraId: string, fault: Fault | undefined): void;
  setFaultFraction(fault: Fault, fraction: number, seed: number): void;
  clearFaults(): void;
}

/** Applies a parsed control message; returns what it did, for the log. */
export function applyControl(msg: ControlMessage, target: ControlTarget): string[] {
  const done: string[] = [];
  if (msg.clearFaults) {
    target.clearFaults();
    done.push('cleared faults');
  }
  if (msg.cameras !== undefined) {
    target.setCount(msg.cameras);
    done.push(`cameras=${msg.cameras}`);
  }
  if (msg.fault) {
    const { camera, fraction, seed, ...rest } = msg.fault;
    const fault = rest.kind === 'none' ? undefined : (rest as Fault);
    if (camera !== undefined) {
      target.setFault(camera, fault);
      done.push(`fault ${rest.kind} on ${camera}`);
    } else if (fraction !== undefined) {
      if (fault) target.setFaultFraction(fault, fraction, seed ?? 1);
      else target.clearFaults();
      done.push(`fault ${rest.kind} on ${Math.round(fraction * 100)}% of cameras`);
    }
  }
  return done;
}
