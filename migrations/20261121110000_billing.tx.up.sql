-- Billing with Stripe: each city (tenant) is one Stripe customer with one subscription.
-- Stripe tells us about changes through webhooks; every accepted event is recorded by its
-- id so that a redelivered event changes nothing.

CREATE TABLE billing_account (
    tenant_id              uuid PRIMARY KEY REFERENCES tenant (id),
    stripe_customer_id     text NOT NULL UNIQUE,
    stripe_subscription_id text UNIQUE,
    subscription_status    text NOT NULL DEFAULT 'none' CHECK (subscription_status IN (
                               'none', 'trialing', 'active', 'past_due', 'unpaid', 'canceled',
                               'incomplete', 'incomplete_expired', 'paused')),
    current_period_end     timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stripe_event (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    tenant_id   uuid REFERENCES tenant (id),
    received_at timestamptz NOT NULL DEFAULT now()
);
