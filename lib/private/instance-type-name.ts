import { formatValue, ModelshipError } from '../runtime/errors';

const INSTANCE_TYPE = /^ml\.([a-z][a-z0-9-]*)\.(\d*x?large|medium|small|micro|metal)$/;

/**
 * The family of a SageMaker instance type name (`ml.<family>.<size>`).
 * @throws ModelshipError naming the valid pattern, with an example, and the name received
 */
export function instanceFamily(name: string, example: string): string {
  const match = INSTANCE_TYPE.exec(name);
  if (!match) {
    throw new ModelshipError(`Invalid instance type`,
      [`'instanceType' must match ml.<family>.<size> (for example ${example}), got ${formatValue(name)}`]);
  }
  return match[1];
}
