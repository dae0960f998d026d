import { CONTROLLER_SETTINGS_VARIABLE, ControllerSettings } from '../../lib/release/controller-settings';
import type { ExperimentPolicySpec } from '../../lib/release/rollout-types';

/** The policy the controller under test runs. */
export const POLICY: ExperimentPolicySpec = {
  kind: 'experiment', baseline: 'baseline', candidate: 'candidate', candidateWeight: 50,
  metric: { kind: 'rate', outcomeType: 'purchase', minimumDetectableEffect: 0.1, betterWhen: 'higher' },
  guardrails: { maxErrorRate: 0.05, alarmNames: ['churn-ab-candidate-5xx'] },
  evaluationIntervalMinutes: 15, maxDurationHours: 336, alpha: 0.05, power: 0.8, manualGateBeforePromotion: false, onHookFailure: 'hold',
  minRunHours: 24, burnInHours: 2,
};

/** The settings the controller under test runs with. Imported before the handler, which reads them at load. */
export const SETTINGS: ControllerSettings = {
  endpointName: 'churn-ab',
  policy: POLICY,
  tableName: 'rollouts',
  eventBusName: 'default',
  topicArn: 'arn:aws:sns:eu-west-1:111111111111:releases',
  beforeStepHooks: ['arn:aws:lambda:eu-west-1:111111111111:function:smoke-test'],
  afterHooks: ['arn:aws:lambda:eu-west-1:111111111111:function:announce'],
  hookTimeoutSeconds: 5,
  source: { gateway: { namespace: 'Modelship', service: 'modelship-gateway', endpointName: 'churn-ab', outcomeType: 'purchase' } },
  metricLagSeconds: 180,
  attributionSeconds: 3600,
};
process.env[CONTROLLER_SETTINGS_VARIABLE] = JSON.stringify(SETTINGS);
process.env.AWS_REGION = 'eu-west-1';
