/**
 * Runs the Razorpay emulator as a standalone server for local development:
 *   npm run build && npm run emulator:razorpay
 * then point the app at it with RAZORPAY_API_URL=<printed url> (no '/v1': the SDK adds it).
 */
import { RazorpayEmulator } from './emulator';

async function main(): Promise<void> {
  const env = process.env;
  const port = Number(env.EMULATOR_PORT || 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`EMULATOR_PORT is not a valid port: ${env.EMULATOR_PORT}`);
  const emulator = await RazorpayEmulator.start({
    keyId: env.RAZORPAY_KEY_ID || 'rzp_test_local',
    keySecret: env.RAZORPAY_KEY_SECRET || 'local_secret',
    webhookSecret: env.RAZORPAY_WEBHOOK_SECRET || 'local_webhook_secret',
    webhookUrl: env.WEBHOOK_URL || undefined,
    port,
  });
  process.stdout.write(`Razorpay emulator listening on ${emulator.url}\n`);
  if (env.WEBHOOK_URL) process.stdout.write(`Recurring-charge webhooks go to ${env.WEBHOOK_URL}\n`);

  const shutdown = (): void => {
    emulator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`Razorpay emulator: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `Razorpay emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
