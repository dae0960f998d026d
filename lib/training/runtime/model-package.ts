import { FinalMetric, GateResult } from './quality-gate';

/** The fields of a finished training job (`DescribeTrainingJob`) that registration uses. */
export interface TrainedJob {
  readonly TrainingJobName: string;
  readonly TrainingJobArn: string;
  readonly ModelArtifacts: { readonly S3ModelArtifacts: string };
  readonly AlgorithmSpecification: { readonly TrainingImage: string };
  readonly FinalMetricDataList?: readonly FinalMetric[];
}

/** How a trained model is to be served, declared on the pipeline. */
export interface RegistrationSettings {
  /** The model's name in the registry. */
  readonly model: string;
  /** The serving image; the training image when absent. */
  readonly inferenceImage?: string;
  /** MIME types the model accepts. */
  readonly contentTypes: readonly string[];
  /** MIME types the model answers with. */
  readonly responseTypes: readonly string[];
  /** The Step Functions execution that trained the model. */
  readonly executionArn: string;
}

/** The `CreateModelPackage` fields that describe one trained version (group and approval are the state's). */
export interface ModelPackageInput {
  readonly ModelPackageDescription: string;
  readonly InferenceSpecification: {
    readonly Containers: { readonly Image: string; readonly ModelDataUrl: string }[];
    readonly SupportedContentTypes: string[];
    readonly SupportedResponseMIMETypes: string[];
  };
  readonly CustomerMetadataProperties: Record<string, string>;
}

/** SageMaker allows 50 metadata entries; these keys are always set. */
const MAX_METADATA = 50;
const MAX_DESCRIPTION = 1024;
const MAX_METADATA_VALUE = 256;
const METADATA_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

/**
 * Describes a trained model version for the registry: its artifact and image, the execution
 * and job that produced it, and its final metrics (as `metric:<name>` metadata, within
 * SageMaker's limits on count and length).
 */
export function modelPackageInput(job: TrainedJob, gate: GateResult, settings: RegistrationSettings): ModelPackageInput {
  const metadata: Record<string, string> = {
    'modelship:model': settings.model,
    'modelship:version': job.TrainingJobName,
    'modelship:trainingJobArn': job.TrainingJobArn,
    'modelship:executionArn': settings.executionArn,
  };
  for (const metric of job.FinalMetricDataList ?? []) {
    const key = `metric:${metric.MetricName}`;
    if (Object.keys(metadata).length < MAX_METADATA && METADATA_KEY.test(key)) {
      metadata[key] = String(metric.Value);
    }
  }
  const summary = gate.results.map((r) => r.reason).join('; ');
  return {
    ModelPackageDescription: `${settings.model} ${job.TrainingJobName}${summary ? `: ${summary}` : ''}`.slice(0, MAX_DESCRIPTION),
    InferenceSpecification: {
      Containers: [{
        Image: settings.inferenceImage ?? job.AlgorithmSpecification.TrainingImage,
        ModelDataUrl: job.ModelArtifacts.S3ModelArtifacts,
      }],
      SupportedContentTypes: [...settings.contentTypes],
      SupportedResponseMIMETypes: [...settings.responseTypes],
    },
    CustomerMetadataProperties: Object.fromEntries(
      Object.entries(metadata).map(([k, v]) => [k, v.slice(0, MAX_METADATA_VALUE)])),
  };
}
