import { Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { formatValue, ModelshipError } from '../runtime/errors';

/** An image digest, as ECR and Docker write it. */
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Docker's rule for tags. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** The tag Docker assumes when none is given, which every push without a tag moves. */
const MUTABLE_TAG = 'latest';
/** The rule for a reference that pins one image version, as error messages state it. */
export const PINNED_IMAGE_RULE = `an immutable tag (1-128 letters, digits, '.', '_' and '-', not '${MUTABLE_TAG}') or a digest ('sha256:' and 64 hex digits)`;

/**
 * Whether a tag or digest pins one image version: `latest` (or no tag at all) names whatever
 * was pushed last, so a training run or a model could not be reproduced.
 */
export function isPinnedImageReference(reference: string): boolean {
  return DIGEST.test(reference) || (TAG.test(reference) && reference !== MUTABLE_TAG);
}

function referenceProblem(property: string, reference: string, received = formatValue(reference)): string | undefined {
  if (Token.isUnresolved(reference) || isPinnedImageReference(reference)) {
    return undefined;
  }
  return `'${property}' must name ${PINNED_IMAGE_RULE}, got ${received}`;
}

/**
 * The version part of an image URI: the digest after `@`, else the tag after the last `:` of
 * the last path segment, else nothing (Docker then pulls `latest`).
 */
function versionOf(imageUri: string): string {
  const at = imageUri.indexOf('@');
  if (at >= 0) {
    return imageUri.slice(at + 1);
  }
  const name = imageUri.slice(imageUri.lastIndexOf('/') + 1);
  const colon = name.lastIndexOf(':');
  return colon >= 0 ? name.slice(colon + 1) : '';
}

/**
 * A container image for SageMaker: from an ECR repository (pull can be granted) or by URI,
 * always one version of it (a digest or a tag other than `latest`), so every run and every
 * model can be reproduced. Give repositories tag immutability, so that a tag stays one image.
 */
export abstract class ContainerImage {
  /**
   * An image in an ECR repository.
   * @param repository the repository; the role that runs the image is granted pull
   * @param tagOrDigest an immutable tag (not `latest`) or a digest (`sha256:` and 64 hex digits)
   * @throws ModelshipError for `latest` or a malformed tag or digest
   */
  public static fromEcrRepository(repository: ecr.IRepository, tagOrDigest: string): ContainerImage {
    const problem = referenceProblem('tagOrDigest', tagOrDigest);
    if (problem) {
      throw new ModelshipError('Invalid ContainerImage.fromEcrRepository', [problem]);
    }
    const imageUri = DIGEST.test(tagOrDigest) ? repository.repositoryUriForDigest(tagOrDigest) : repository.repositoryUriForTag(tagOrDigest);
    return new (class extends ContainerImage {
      public readonly imageUri = imageUri;
      public grantPull(grantee: iam.IGrantable): void {
        repository.grantPull(grantee);
      }
    })();
  }

  /**
   * An image by URI with its tag or digest, such as an AWS Deep Learning Container
   * (`763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311`). Nothing is
   * granted: the image must be readable by the role that runs it (AWS-owned images are).
   * @throws ModelshipError for a URI without a tag or digest, or with the tag `latest`
   */
  public static fromImageUri(imageUri: string): ContainerImage {
    const version = Token.isUnresolved(imageUri) ? undefined : versionOf(imageUri);
    const problem = version === undefined ? undefined : referenceProblem('imageUri', version,
      version === '' ? `${formatValue(imageUri)}, without a tag or digest (Docker pulls '${MUTABLE_TAG}')` : `${formatValue(imageUri)}`);
    if (problem) {
      throw new ModelshipError('Invalid ContainerImage.fromImageUri', [problem]);
    }
    return new (class extends ContainerImage {
      public readonly imageUri = imageUri;
      public grantPull(): void {
        // An image by URI carries no repository to grant on.
      }
    })();
  }

  /** The image's URI. */
  public abstract readonly imageUri: string;

  /** Lets the role that runs the image pull it. */
  public abstract grantPull(grantee: iam.IGrantable): void;
}
