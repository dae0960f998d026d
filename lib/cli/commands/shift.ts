import { shiftedState } from '../../release/decide';
import type { AwsClients } from '../aws';
import { ChangeOptions, commitChange } from '../change';
import { describeEndpoint, EndpointView, requireChangeable, rolloutStore } from '../endpoint';
import { CliError, EXIT } from '../errors';
import { rolloutToChange } from '../rollout';
import type { Io } from '../io';

/** `modelship shift <endpoint> --to <variant> --weight <0-100>` or `--weights a=90,b=10`. */
export interface ShiftOptions extends ChangeOptions {
  readonly endpoint: string;
  readonly to?: string;
  readonly weight?: string;
  readonly weights?: string;
  readonly table?: string;
  readonly keepAutomation?: boolean;
}

function percent(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 100) {
    throw new CliError(EXIT.USAGE, `${name} must be a whole percentage between 0 and 100, got '${value}'`);
  }
  return n;
}

/** The weights the options ask for, checked against the endpoint's variants. */
export function requestedWeights(options: ShiftOptions, endpoint: EndpointView): Record<string, number> {
  const variants = endpoint.variants.map((v) => v.name);
  const known = (variant: string) => {
    if (!variants.includes(variant)) {
      throw new CliError(EXIT.USAGE, `unknown variant '${variant}' on endpoint '${endpoint.name}' (its variants: ${variants.join(', ')})`);
    }
  };
  let weights: Record<string, number>;
  if (options.weights !== undefined && (options.to !== undefined || options.weight !== undefined)) {
    throw new CliError(EXIT.USAGE, "Specify either '--weights' or '--to' with '--weight', not both");
  } else if (options.weights !== undefined) {
    weights = {};
    for (const pair of options.weights.split(',')) {
      const [variant, value, extra] = pair.split('=').map((p) => p.trim());
      if (!variant || value === undefined || extra !== undefined) {
        throw new CliError(EXIT.USAGE, `'--weights' must look like baseline=90,candidate=10, got '${options.weights}'`);
      }
      known(variant);
      weights[variant] = percent(`the weight of '${variant}'`, value);
    }
    const missing = variants.filter((v) => !(v in weights));
    if (missing.length > 0) {
      throw new CliError(EXIT.USAGE, `'--weights' must give every variant a weight; missing: ${missing.join(', ')}`);
    }
    const total = Object.values(weights).reduce((sum, w) => sum + w, 0);
    if (total !== 100) {
      throw new CliError(EXIT.USAGE, `'--weights' must add up to 100, got ${total}`);
    }
  } else if (options.to !== undefined && options.weight !== undefined) {
    known(options.to);
    const target = percent("'--weight'", options.weight);
    const others = variants.filter((v) => v !== options.to);
    if (others.length === 0 && target !== 100) {
      throw new CliError(EXIT.USAGE, `'${options.to}' is the endpoint's only variant: its weight must be 100, got ${target}`);
    }
    // The others share the rest in proportion to their current weights (evenly when they have none).
    const current = others.reduce((sum, v) => sum + (endpoint.weights[v] ?? 0), 0);
    weights = { [options.to]: target };
    let left = 100 - target;
    others.forEach((v, i) => {
      const share = i === others.length - 1 ? left : Math.round(((100 - target) * (current > 0 ? endpoint.weights[v] ?? 0 : 1)) / (current > 0 ? current : others.length));
      weights[v] = share;
      left -= share;
    });
  } else {
    throw new CliError(EXIT.USAGE, "Specify '--to <variant>' with '--weight <0-100>', or '--weights a=90,b=10'");
  }
  if (Object.values(weights).every((w) => w === 0)) {
    throw new CliError(EXIT.USAGE, 'the weights must not all be zero');
  }
  // In the endpoint's order, as every other view shows them.
  return Object.fromEntries(variants.map((v) => [v, weights[v]]));
}

/**
 * Moves traffic between variants by hand. On an automated rollout the automation is paused
 * (unless `--keep-automation`), so the controller does not move the weights back.
 */
export async function shift(options: ShiftOptions, io: Io, aws: AwsClients): Promise<number> {
  const endpoint = await describeEndpoint(aws, options.endpoint);
  const weights = requestedWeights(options, endpoint);
  requireChangeable(endpoint);
  const store = rolloutStore(aws, endpoint.name, options.table);
  const record = await rolloutToChange(store, endpoint.name, options.table);
  const notes: string[] = [];
  let state = record?.state;
  if (record && state) {
    const pause = state.phase === 'running' && !options.keepAutomation;
    if (pause) {
      notes.push("the rollout's automation is paused (resume it with 'modelship resume'; keep it running with --keep-automation)");
    } else if (state.phase === 'running') {
      notes.push('the automation keeps running from these weights: its next step is the first above them');
    }
    // The rollout stands where the weights put it, so the next advance never lowers the candidate.
    state = shiftedState(record.policy, state, weights, pause ? 'paused' : state.phase);
  }
  const manual = record ? undefined : await store.readManual(endpoint.name);
  return commitChange({ endpoint, store, record, manual, state, weights, action: 'manual-shift', notes }, options, io, aws);
}
