import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/**
 * Instance families whose local storage is NVMe, encrypted in hardware: SageMaker rejects a
 * volume KMS key for them, for training and hosting alike.
 */
const NVME_FAMILIES = /^(g4dn|g5|g6|g6e|p3dn|p4d|p4de|p5|p5e|p5en|trn1|trn1n|trn2|inf2|[a-z]\d+[a-z]*d)$/;

/** Whether an instance family has NVMe instance storage, which takes no volume key. */
export function hasNvmeStorage(family: string): boolean {
  return NVME_FAMILIES.test(family);
}

/** What SageMaker's role needs on a key that encrypts instance volumes. */
export const VOLUME_KEY_ACTIONS: readonly string[] = ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];

/** Lets SageMaker's role use a key that encrypts instance volumes. */
export function grantVolumeKey(key: kms.IKey | undefined, grantee: iam.IGrantable): void {
  key?.grant(grantee, ...VOLUME_KEY_ACTIONS);
}
