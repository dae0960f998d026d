import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';

/** A container image for SageMaker: from an ECR repository (pull granted) or by URI. */
export abstract class ContainerImage {
  /**
   * An image in an ECR repository; the role that runs it is granted pull.
   * @param tag the image tag @default 'latest'
   */
  public static fromEcrRepository(repository: ecr.IRepository, tag = 'latest'): ContainerImage {
    return new (class extends ContainerImage {
      public bind(grantee: iam.IGrantable): string {
        repository.grantPull(grantee);
        return repository.repositoryUriForTag(tag);
      }
    })();
  }

  /**
   * An image by URI, such as an AWS Deep Learning Container. Nothing is granted: the image
   * must be readable by the role (AWS-owned images are).
   */
  public static fromImageUri(imageUri: string): ContainerImage {
    return new (class extends ContainerImage {
      public bind(): string {
        return imageUri;
      }
    })();
  }

  /** Grants the role what it needs to pull the image and returns its URI. */
  public abstract bind(grantee: iam.IGrantable): string;
}
