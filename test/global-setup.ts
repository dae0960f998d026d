import { bundleIfStale } from '../lambda/bundle';

/** Before any test file: the hooks' bundles that `HandlerFunction` deploys, rebuilt if a source changed. */
export default async function globalSetup(): Promise<void> {
  await bundleIfStale();
}
