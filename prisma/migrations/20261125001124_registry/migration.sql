-- CreateEnum
CREATE TYPE "SoftwareStatus" AS ENUM ('active', 'inactive', 'removed');

-- CreateEnum
CREATE TYPE "SoftwareMode" AS ENUM ('live', 'test');

-- CreateEnum
CREATE TYPE "CertificateType" AS ENUM ('transport', 'signing');

-- CreateEnum
CREATE TYPE "CertificateStatus" AS ENUM ('active', 'revoked');

-- CreateTable
CREATE TABLE "software_statements" (
    "id" UUID NOT NULL,
    "organisation_id" UUID NOT NULL,
    "client_name" TEXT NOT NULL,
    "client_description" TEXT,
    "client_uri" TEXT,
    "logo_uri" TEXT,
    "tos_uri" TEXT,
    "policy_uri" TEXT,
    "redirect_uris" TEXT[],
    "roles" TEXT[],
    "mode" "SoftwareMode" NOT NULL DEFAULT 'live',
    "status" "SoftwareStatus" NOT NULL DEFAULT 'active',
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "software_statements_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "authorisation_servers" (
    "id" UUID NOT NULL,
    "organisation_id" UUID NOT NULL,
    "issuer" TEXT NOT NULL,
    "discovery_url" TEXT NOT NULL,
    "customer_friendly_name" TEXT NOT NULL,
    "logo_uri" TEXT,
    "api_resources" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "authorisation_servers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "certificates" (
    "serial" TEXT NOT NULL,
    "type" "CertificateType" NOT NULL,
    "organisation_id" UUID NOT NULL,
    "software_statement_id" UUID,
    "der" BYTEA NOT NULL,
    "x5t_s256" TEXT NOT NULL,
    "not_before" TIMESTAMPTZ(3) NOT NULL,
    "not_after" TIMESTAMPTZ(3) NOT NULL,
    "status" "CertificateStatus" NOT NULL DEFAULT 'active',
    "revoked_at" TIMESTAMPTZ(3),
    "revocation_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "certificates_pkey" PRIMARY KEY ("serial")
);

-- CreateIndex
CREATE INDEX "software_statements_organisation_id_idx" ON "software_statements"("organisation_id");

-- CreateIndex
CREATE INDEX "authorisation_servers_organisation_id_idx" ON "authorisation_servers"("organisation_id");

-- CreateIndex
CREATE UNIQUE INDEX "authorisation_servers_issuer_key" ON "authorisation_servers"("issuer");

-- CreateIndex
CREATE UNIQUE INDEX "certificates_x5t_s256_key" ON "certificates"("x5t_s256");

-- CreateIndex
CREATE INDEX "certificates_organisation_id_idx" ON "certificates"("organisation_id");

-- CreateIndex
CREATE INDEX "certificates_software_statement_id_idx" ON "certificates"("software_statement_id");

-- CreateIndex
CREATE INDEX "certificates_status_idx" ON "certificates"("status");

-- AddForeignKey
ALTER TABLE "software_statements" ADD CONSTRAINT "software_statements_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "authorisation_servers" ADD CONSTRAINT "authorisation_servers_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_software_statement_id_fkey" FOREIGN KEY ("software_statement_id") REFERENCES "software_statements"("id") ON DELETE SET NULL ON UPDATE CASCADE;
