import { randomBytes } from 'crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ROOT_BYTES } from '../../lib/hooks/runtime/gateway-keys';
import { parseRotationEvent, rotationStep, StepResult } from '../../lib/hooks/runtime/key-rotation';

const logger = new Logger({ serviceName: 'modelship-gateway-key-rotation' });
const secrets = new SecretsManagerClient({});

/** One step of a rotation of an inference gateway's key secret, as Secrets Manager calls it. A failed step throws, so Secrets Manager retries it. */
export async function rotate(event: unknown): Promise<StepResult> {
  const step = parseRotationEvent(event);
  const context = { secretId: step.SecretId, token: step.ClientRequestToken, step: step.Step };
  try {
    const result = await rotationStep(secrets, step, () => randomBytes(ROOT_BYTES));
    logger.info('rotation step done', { ...context, result });
    return result;
  } catch (error) {
    logger.error('rotation step failed', { ...context, error: error as Error });
    throw error;
  }
}

export const handler = rotate;
