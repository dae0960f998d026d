import { Logger } from '@aws-lambda-powertools/logger';
import { modelPackageInput, ModelPackageInput, RegistrationSettings, TrainedJob } from '../../lib/training/runtime/model-package';
import { evaluateGate, GateResult, MetricThreshold } from '../../lib/training/runtime/quality-gate';

const logger = new Logger({ serviceName: 'modelship-training-gate' });

/** What the state machine passes: the finished job, the gate and how to register. */
export interface GateEvent {
  readonly training: TrainedJob;
  readonly thresholds: MetricThreshold[];
  readonly registration: RegistrationSettings;
}

/** The gate's verdict and, for a model that passed, the model package to create. */
export interface GateOutput extends GateResult {
  readonly modelPackage: ModelPackageInput;
}

/** Evaluates the quality gate and prepares the model package; has no side effects. */
export async function evaluate(event: GateEvent): Promise<GateOutput> {
  if (!event?.training?.TrainingJobName || !Array.isArray(event.thresholds) || !event.registration) {
    throw new Error("Invalid gate event: expected 'training', 'thresholds' and 'registration'");
  }
  const gate = evaluateGate(event.thresholds, event.training.FinalMetricDataList ?? []);
  logger.info('quality gate evaluated', { trainingJobName: event.training.TrainingJobName, ...gate });
  return { ...gate, modelPackage: modelPackageInput(event.training, gate, event.registration) };
}

export const handler = evaluate;
