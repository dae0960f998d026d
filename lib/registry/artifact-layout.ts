import { Token } from 'aws-cdk-lib';
import { formatValue, throwIfProblems } from '../runtime/errors';

/** Top-level prefix under which every model's artifacts live. */
export const MODELS_PREFIX = 'models/';

/**
 * Where a version's artifact sits below its version prefix. It is where a SageMaker training
 * job writes it (`<S3OutputPath>/<job name>/output/model.tar.gz`), so with the output path
 * `models/<model>/` and the job name as version, a trained model lands in place: no copy,
 * no size limit.
 */
export const MODEL_ARTIFACT_FILE = 'output/model.tar.gz';

/**
 * The principal tag (`modelship:artifact-writer` = `training`) of the roles SageMaker writes
 * trained artifacts with: the registry's bucket policy lets only them create artifacts without
 * `If-None-Match: *`, because SageMaker's managed upload of a job's output sends no such header.
 */
export const ARTIFACT_WRITER_TAG = { key: 'modelship:artifact-writer', value: 'training' } as const;

/** Top-level prefix under which training checkpoints live. */
export const CHECKPOINTS_PREFIX = 'checkpoints/';

const MODEL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MODEL_NAME_RULE = '1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit';

const VERSION = /^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,126}[A-Za-z0-9])?$/;
const VERSION_RULE = "1-128 letters, digits, '.', '_', '+' and '-', starting and ending with a letter or digit, without '..'";

/** The problems with a model or pipeline name, each naming the property; empty when valid or a token. */
export function nameProblems(property: string, name: string): string[] {
  return Token.isUnresolved(name) || MODEL_NAME.test(name) ? [] : [`'${property}' must be ${MODEL_NAME_RULE}, got ${formatValue(name)}`];
}

function versionProblems(version: string): string[] {
  return Token.isUnresolved(version) || (VERSION.test(version) && !version.includes('..'))
    ? []
    : [`'version' must be ${VERSION_RULE}, got ${formatValue(version)}`];
}

/**
 * The registry prefix that holds every version of a model: `models/<model>/`.
 *
 * @throws ModelshipError when the model name is not a valid registry name
 */
export function modelPrefix(model: string): string {
  throwIfProblems('Invalid model name', nameProblems('model', model));
  return `${MODELS_PREFIX}${model}/`;
}

/**
 * The object key of one model version's artifact: `models/<model>/<version>/output/model.tar.gz`.
 * One version has exactly one key, so artifacts are never copied to ad-hoc paths.
 *
 * @throws ModelshipError naming every invalid part
 */
export function modelArtifactKey(model: string, version: string): string {
  throwIfProblems('Invalid model artifact', [...nameProblems('model', model), ...versionProblems(version)]);
  return `${MODELS_PREFIX}${model}/${version}/${MODEL_ARTIFACT_FILE}`;
}

/**
 * The prefix that holds a training pipeline's checkpoints: `checkpoints/<pipeline>/`. Each run
 * checkpoints below it under its execution name.
 *
 * @throws ModelshipError when the pipeline name is not a valid registry name
 */
export function checkpointPrefix(pipeline: string): string {
  throwIfProblems('Invalid pipeline name', nameProblems('pipeline', pipeline));
  return `${CHECKPOINTS_PREFIX}${pipeline}/`;
}
