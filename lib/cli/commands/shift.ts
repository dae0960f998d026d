import { shiftedState } from '../../release/decide';
import { sameWeights } from '../../release/weights';
import type { AwsClients } from '../aws';
import { ChangeOptions, changeSettings, commitChange } from '../change';
import { describeEndpoint, EndpointView, requireChangeable, rolloutStore } from '../endpoint';
import { CliError, EXIT } from '../errors';
import { rolloutToChange } from '../rollout';
import type { Io } from '../io';
import { checkNumber, readOptions } from '../options';

/** `modelship shift <endpoint> --to <variant> --weight <0-100>` or `--weights a=90,b=10`. */
export interface ShiftOptions extends ChangeOptions {
  readonly endpoint: string;
  readonly to?: string;
  readonly weight?: string;
  readonly weights?: string;
  readonly table?: string;
  readonly keepAutomation?: boolean;
}

/** A variant's weight on the command line: a whole percentage. */
const PERCENT = { min: 0, max: 100, integer: true } as const;

/** The weights a shift asks for, read from the options alone (before any AWS call). */
export type WeightRequest =
  /** `--to <variant> --weight <percent>`: the others share the rest. */
  | { readonly to: string; readonly weight: number }
  /** `--weights a=90,b=10`: every variant's weight, adding up to 100. */
  | { readonly weights: Readonly<Record<string, number>> };

/** Reads and checks the form and ranges of `--to`/`--weight` or `--weights`; exit 2 when they are bad. */
export function weightRequest(options: Pick<ShiftOptions, 'to' | 'weight' | 'weights'>): WeightRequest {
  if (options.weights !== undefined && (options.to !== undefined || options.weight !== undefined)) {
    throw new CliError(EXIT.USAGE, "Specify either '--weights' or '--to' with '--weight', not both");
  }
  if (options.weights !== undefined) {
    const weights: Record<string, number> = {};
    const problems: string[] = [];
    for (const pair of options.weights.split(',')) {
      const [variant, value, extra] = pair.split('=').map((p) => p.trim());
      if (!variant || value === undefined || extra !== undefined) {
        throw new CliError(EXIT.USAGE, `--weights must look like baseline=90,candidate=10, got '${options.weights}'`);
      }
      if (variant in weights) {
        throw new CliError(EXIT.USAGE, `--weights names '${variant}' more than once, got '${options.weights}'`);
      }
      try {
        weights[variant] = checkNumber(`the weight of '${variant}' in --weights`, value, PERCENT);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    if (problems.length > 0) {
      throw new CliError(EXIT.USAGE, problems.join('; '));
    }
    const total = Object.values(weights).reduce((sum, w) => sum + w, 0);
    if (total !== 100) {
      throw new CliError(EXIT.USAGE, `--weights must add up to 100, got ${total} ('${options.weights}')`);
    }
    return { weights };
  }
  if (options.to !== undefined && options.weight !== undefined) {
    return { to: options.to, weight: checkNumber('--weight', options.weight, PERCENT) };
  }
  throw new CliError(EXIT.USAGE, "Specify '--to <variant>' with '--weight <0-100>', or '--weights a=90,b=10'");
}

/** The endpoint's weights after the request, checked against its variants (which need DescribeEndpoint). */
export function requestedWeights(request: WeightRequest, endpoint: EndpointView): Record<string, number> {
  const variants = endpoint.variants.map((v) => v.name);
  const known = (variant: string) => {
    if (!variants.includes(variant)) {
      throw new CliError(EXIT.USAGE, `unknown variant '${variant}' on endpoint '${endpoint.name}' (its variants: ${variants.join(', ')})`);
    }
  };
  let weights: Record<string, number>;
  if ('weights' in request) {
    Object.keys(request.weights).forEach(known);
    const missing = variants.filter((v) => !(v in request.weights));
    if (missing.length > 0) {
      throw new CliError(EXIT.USAGE, `--weights must give every variant a weight; missing: ${missing.join(', ')}`);
    }
    weights = { ...request.weights };
  } else {
    known(request.to);
    const target = request.weight;
    const others = variants.filter((v) => v !== request.to);
    if (others.length === 0 && target !== 100) {
      throw new CliError(EXIT.USAGE, `'${request.to}' is the endpoint's only variant: its weight must be 100, got ${target}`);
    }
    // The others share the rest in proportion to their current weights (evenly when they have none).
    const current = others.reduce((sum, v) => sum + (endpoint.weights[v] ?? 0), 0);
    weights = { [request.to]: target };
    let left = 100 - target;
    others.forEach((v, i) => {
      const share = i === others.length - 1 ? left : Math.round(((100 - target) * (current > 0 ? endpoint.weights[v] ?? 0 : 1)) / (current > 0 ? current : others.length));
      weights[v] = share;
      left -= share;
    });
  }
  // In the endpoint's order, as every other view shows them.
  return Object.fromEntries(variants.map((v) => [v, weights[v]]));
}

/**
 * Moves traffic between variants by hand. On an automated rollout the automation is paused
 * (unless `--keep-automation`), so the controller does not move the weights back.
 */
export async function shift(options: ShiftOptions, io: Io, aws: AwsClients): Promise<number> {
  const parsed = readOptions({ change: () => changeSettings(options), request: () => weightRequest(options) });
  const endpoint = await describeEndpoint(aws, options.endpoint);
  const weights = requestedWeights(parsed.request, endpoint);
  requireChangeable(endpoint);
  const store = rolloutStore(aws, endpoint.name, options.table);
  const record = await rolloutToChange(store, endpoint.name, options.table);
  const notes: string[] = [];
  let state = record?.state;
  if (record && state) {
    const pause = state.phase === 'running' && !options.keepAutomation;
    if (!pause && state.phase === 'running' && record.policy.kind === 'experiment' && !sameWeights(weights, endpoint.weights)) {
      throw new CliError(EXIT.REFUSED, `'${endpoint.name}' runs an experiment, whose test assumes one split from start to end: a shift pauses it (leave out --keep-automation); nothing changed`);
    }
    if (pause) {
      notes.push("the rollout's automation is paused (resume it with 'modelship resume'; keep it running with --keep-automation)");
    } else if (state.phase === 'running') {
      notes.push('the automation keeps running from these weights: its next step is the first above them');
    }
    // The rollout stands where the weights put it, so the next advance never lowers the candidate.
    state = shiftedState(record.policy, state, weights, pause ? 'paused' : state.phase, io.now());
  }
  const manual = record ? undefined : await store.readManual(endpoint.name);
  return commitChange({ endpoint, store, record, manual, state, weights, action: 'manual-shift', notes }, parsed.change, io, aws);
}
