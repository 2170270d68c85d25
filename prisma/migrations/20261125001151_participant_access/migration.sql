-- CreateEnum
CREATE TYPE "SigningKeyState" AS ENUM ('next', 'active', 'retired');

-- CreateTable
CREATE TABLE "clients" (
    "id" UUID NOT NULL,
    "organisation_id" UUID NOT NULL,
    "jwks" JSONB NOT NULL,
    "scopes" TEXT[],
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "clients_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "enrolment_codes" (
    "id" UUID NOT NULL,
    "organisation_id" UUID NOT NULL,
    "code_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "enrolment_codes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "used_assertions" (
    "client_id" UUID NOT NULL,
    "jti" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "used_assertions_pkey" PRIMARY KEY ("client_id","jti")
);

-- CreateTable
CREATE TABLE "ssa_issuances" (
    "jti" TEXT NOT NULL,
    "software_statement_id" UUID NOT NULL,
    "organisation_id" UUID NOT NULL,
    "kid" TEXT NOT NULL,
    "requested_by" TEXT NOT NULL,
    "issued_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ssa_issuances_pkey" PRIMARY KEY ("jti")
);

-- CreateTable
CREATE TABLE "signing_keys" (
    "kid" TEXT NOT NULL,
    "alg" TEXT NOT NULL,
    "key_id" UUID NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "state" "SigningKeyState" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activated_at" TIMESTAMPTZ(3),
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
);

-- CreateIndex
CREATE INDEX "clients_organisation_id_idx" ON "clients"("organisation_id");

-- CreateIndex
CREATE UNIQUE INDEX "enrolment_codes_code_hash_key" ON "enrolment_codes"("code_hash");

-- CreateIndex
CREATE INDEX "used_assertions_expires_at_idx" ON "used_assertions"("expires_at");

-- CreateIndex
CREATE INDEX "ssa_issuances_software_statement_id_idx" ON "ssa_issuances"("software_statement_id");

-- CreateIndex
CREATE INDEX "signing_keys_state_idx" ON "signing_keys"("state");

-- AddForeignKey
ALTER TABLE "clients" ADD CONSTRAINT "clients_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "enrolment_codes" ADD CONSTRAINT "enrolment_codes_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signing_keys" ADD CONSTRAINT "signing_keys_key_id_fkey" FOREIGN KEY ("key_id") REFERENCES "encrypted_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
