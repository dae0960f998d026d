import { instanceFamily } from '../private/instance-type-name';

/**
 * Instance families with GPUs or AWS ML accelerators (Trainium, Inferentia). Anything else
 * is a CPU family, which is refused for training unless asked for explicitly.
 */
const ACCELERATED_FAMILIES = new Set([
  'p3', 'p3dn', 'p4d', 'p4de', 'p5', 'p5e', 'p5en', 'p6-b200',
  'g4dn', 'g5', 'g6', 'g6e', 'g5g',
  'trn1', 'trn1n', 'trn2',
]);

/** A SageMaker training instance type: `ml.<family>.<size>`. */
export class TrainingInstanceType {
  /** 1 NVIDIA T4. */
  public static readonly G4DN_XLARGE = new TrainingInstanceType('ml.g4dn.xlarge');
  /** 4 NVIDIA T4. */
  public static readonly G4DN_12XLARGE = new TrainingInstanceType('ml.g4dn.12xlarge');
  /** 1 NVIDIA A10G. */
  public static readonly G5_XLARGE = new TrainingInstanceType('ml.g5.xlarge');
  /** 1 NVIDIA A10G, 8 vCPUs. */
  public static readonly G5_2XLARGE = new TrainingInstanceType('ml.g5.2xlarge');
  /** 4 NVIDIA A10G. */
  public static readonly G5_12XLARGE = new TrainingInstanceType('ml.g5.12xlarge');
  /** 8 NVIDIA A10G. */
  public static readonly G5_48XLARGE = new TrainingInstanceType('ml.g5.48xlarge');
  /** 1 NVIDIA L4. */
  public static readonly G6_XLARGE = new TrainingInstanceType('ml.g6.xlarge');
  /** 4 NVIDIA L4. */
  public static readonly G6_12XLARGE = new TrainingInstanceType('ml.g6.12xlarge');
  /** 1 NVIDIA L40S. */
  public static readonly G6E_XLARGE = new TrainingInstanceType('ml.g6e.xlarge');
  /** 4 NVIDIA L40S. */
  public static readonly G6E_12XLARGE = new TrainingInstanceType('ml.g6e.12xlarge');
  /** 8 NVIDIA L40S. */
  public static readonly G6E_48XLARGE = new TrainingInstanceType('ml.g6e.48xlarge');
  /** 1 NVIDIA V100. */
  public static readonly P3_2XLARGE = new TrainingInstanceType('ml.p3.2xlarge');
  /** 8 NVIDIA V100. */
  public static readonly P3_16XLARGE = new TrainingInstanceType('ml.p3.16xlarge');
  /** 8 NVIDIA A100 40 GB. */
  public static readonly P4D_24XLARGE = new TrainingInstanceType('ml.p4d.24xlarge');
  /** 8 NVIDIA A100 80 GB. */
  public static readonly P4DE_24XLARGE = new TrainingInstanceType('ml.p4de.24xlarge');
  /** 8 NVIDIA H100. */
  public static readonly P5_48XLARGE = new TrainingInstanceType('ml.p5.48xlarge');
  /** 8 NVIDIA H200. */
  public static readonly P5E_48XLARGE = new TrainingInstanceType('ml.p5e.48xlarge');
  /** 16 AWS Trainium. */
  public static readonly TRN1_32XLARGE = new TrainingInstanceType('ml.trn1.32xlarge');
  /** 1 AWS Trainium. */
  public static readonly TRN1_2XLARGE = new TrainingInstanceType('ml.trn1.2xlarge');

  /**
   * Any instance type by name, for families and sizes without a constant.
   * @throws ModelshipError when the name is not of the form `ml.<family>.<size>`
   */
  public static of(name: string): TrainingInstanceType {
    return new TrainingInstanceType(name);
  }

  /** The instance family, e.g. `g5`. */
  public readonly family: string;
  /** Whether the family has GPUs or AWS ML accelerators. */
  public readonly accelerated: boolean;

  private constructor(public readonly name: string) {
    this.family = instanceFamily(name, 'ml.g5.2xlarge');
    this.accelerated = ACCELERATED_FAMILIES.has(this.family);
  }

  public toString(): string {
    return this.name;
  }
}
