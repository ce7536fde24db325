import { RazorpayEmulator } from './razorpay-emulator';
import { startTestApp, TestApp } from './app';

export const RZP = {
  keyId: 'rzp_test_trektribe',
  keySecret: 'test_key_secret_0123456789',
  webhookSecret: 'test_webhook_secret_abcdef',
};

export interface BillingTestApp extends TestApp {
  rzp: RazorpayEmulator;
  webhookUrl: string;
}

/** The real app with Razorpay credentials, its SDK pointed at a fresh emulator that posts webhooks back to it. */
export async function startBillingApp(env: Record<string, string> = {}): Promise<BillingTestApp> {
  const rzp = await RazorpayEmulator.start({ ...RZP });
  const t = await startTestApp({
    RAZORPAY_KEY_ID: RZP.keyId,
    RAZORPAY_KEY_SECRET: RZP.keySecret,
    RAZORPAY_WEBHOOK_SECRET: RZP.webhookSecret,
    RAZORPAY_API_URL: rzp.url,
    RAZORPAY_TIMEOUT_MS: '3000',
    ...env,
  });
  const webhookUrl = `${t.baseUrl}/api/v1/webhooks/razorpay`;
  rzp.setWebhookUrl(webhookUrl);
  const close = t.close.bind(t);
  return Object.assign(t, {
    rzp,
    webhookUrl,
    async close() {
      await close();
      await rzp.stop();
    },
  });
}
