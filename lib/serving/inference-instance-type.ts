import { instanceFamily } from '../private/instance-type-name';

/** A SageMaker hosting instance type: `ml.<family>.<size>`, CPU, GPU or Inferentia. */
export class InferenceInstanceType {
  /** 2 vCPUs, burstable: for development. */
  public static readonly T2_MEDIUM = new InferenceInstanceType('ml.t2.medium');
  /** 2 vCPUs, 8 GiB. */
  public static readonly M5_LARGE = new InferenceInstanceType('ml.m5.large');
  /** 4 vCPUs, 16 GiB. */
  public static readonly M5_XLARGE = new InferenceInstanceType('ml.m5.xlarge');
  /** 4 vCPUs, 8 GiB, compute optimised. */
  public static readonly C6I_XLARGE = new InferenceInstanceType('ml.c6i.xlarge');
  /** 8 vCPUs, 16 GiB, compute optimised. */
  public static readonly C6I_2XLARGE = new InferenceInstanceType('ml.c6i.2xlarge');
  /** 1 NVIDIA T4. */
  public static readonly G4DN_XLARGE = new InferenceInstanceType('ml.g4dn.xlarge');
  /** 1 NVIDIA A10G. */
  public static readonly G5_XLARGE = new InferenceInstanceType('ml.g5.xlarge');
  /** 1 NVIDIA A10G, 8 vCPUs. */
  public static readonly G5_2XLARGE = new InferenceInstanceType('ml.g5.2xlarge');
  /** 4 NVIDIA A10G. */
  public static readonly G5_12XLARGE = new InferenceInstanceType('ml.g5.12xlarge');
  /** 1 NVIDIA L4. */
  public static readonly G6_XLARGE = new InferenceInstanceType('ml.g6.xlarge');
  /** 1 NVIDIA L40S. */
  public static readonly G6E_XLARGE = new InferenceInstanceType('ml.g6e.xlarge');
  /** 8 NVIDIA H100. */
  public static readonly P5_48XLARGE = new InferenceInstanceType('ml.p5.48xlarge');
  /** 1 AWS Inferentia2. */
  public static readonly INF2_XLARGE = new InferenceInstanceType('ml.inf2.xlarge');
  /** 12 AWS Inferentia2. */
  public static readonly INF2_48XLARGE = new InferenceInstanceType('ml.inf2.48xlarge');
  /** 1 AWS Inferentia (first generation): deployment guardrails fall back to all-at-once. */
  public static readonly INF1_XLARGE = new InferenceInstanceType('ml.inf1.xlarge');

  /**
   * Any hosting instance type by name.
   * @throws ModelshipError when the name is not of the form `ml.<family>.<size>`
   */
  public static of(name: string): InferenceInstanceType {
    return new InferenceInstanceType(name);
  }

  /** The instance family, e.g. `inf2`. */
  public readonly family: string;

  private constructor(public readonly name: string) {
    this.family = instanceFamily(name, 'ml.g5.xlarge');
  }

  /** Whether SageMaker silently deploys this type all at once, ignoring guardrails (Inf1). */
  public get ignoresGuardrails(): boolean {
    return this.family === 'inf1';
  }

  public toString(): string {
    return this.name;
  }
}
