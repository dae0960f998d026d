import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledgeOnGrantee } from '../private/acknowledge-wildcards';

/** A container image for SageMaker: from an ECR repository (pull can be granted) or by URI. */
export abstract class ContainerImage {
  /**
   * An image in an ECR repository.
   * @param tag the image tag @default 'latest'
   */
  public static fromEcrRepository(repository: ecr.IRepository, tag = 'latest'): ContainerImage {
    return new (class extends ContainerImage {
      public readonly imageUri = repository.repositoryUriForTag(tag);
      public grantPull(grantee: iam.IGrantable): void {
        repository.grantPull(grantee);
        acknowledgeOnGrantee(grantee, [{ actions: ['ecr:GetAuthorizationToken'], resources: ['*'], reason: 'ecr:GetAuthorizationToken has no resource-level permissions' }]);
      }
    })();
  }

  /**
   * An image by URI, such as an AWS Deep Learning Container. Nothing is granted: the image
   * must be readable by the role that runs it (AWS-owned images are).
   */
  public static fromImageUri(imageUri: string): ContainerImage {
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
