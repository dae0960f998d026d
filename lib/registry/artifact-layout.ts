import { formatValue, throwIfProblems } from '../private/errors';

/** Top-level prefix under which every model's artifacts live. */
export const MODELS_PREFIX = 'models/';

/** File name of a model version's artifact, as SageMaker hosting expects it. */
export const MODEL_ARTIFACT_FILE = 'model.tar.gz';

const MODEL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MODEL_NAME_RULE = '1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit';

const VERSION = /^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,126}[A-Za-z0-9])?$/;
const VERSION_RULE = "1-128 letters, digits, '.', '_', '+' and '-', starting and ending with a letter or digit, without '..'";

function modelNameProblems(model: string): string[] {
  return MODEL_NAME.test(model) ? [] : [`'model' must be ${MODEL_NAME_RULE}, got ${formatValue(model)}`];
}

function versionProblems(version: string): string[] {
  return VERSION.test(version) && !version.includes('..')
    ? []
    : [`'version' must be ${VERSION_RULE}, got ${formatValue(version)}`];
}

/**
 * The registry prefix that holds every version of a model: `models/<model>/`.
 *
 * @throws ModelshipError when the model name is not a valid registry name
 */
export function modelPrefix(model: string): string {
  throwIfProblems('Invalid model name', modelNameProblems(model));
  return `${MODELS_PREFIX}${model}/`;
}

/**
 * The object key of one model version's artifact: `models/<model>/<version>/model.tar.gz`.
 * One version has exactly one key, so artifacts are never copied to ad-hoc paths.
 *
 * @throws ModelshipError naming every invalid part
 */
export function modelArtifactKey(model: string, version: string): string {
  throwIfProblems('Invalid model artifact', [...modelNameProblems(model), ...versionProblems(version)]);
  return `${MODELS_PREFIX}${model}/${version}/${MODEL_ARTIFACT_FILE}`;
}
