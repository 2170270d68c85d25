-- AlterTable
ALTER TABLE "organisations" ADD COLUMN     "company_register" TEXT,
ADD COLUMN     "registration_id" TEXT;

-- AlterTable
ALTER TABLE "software_statements" ADD COLUMN     "environment" TEXT,
ADD COLUMN     "on_behalf_of" TEXT;

-- CreateTable
CREATE TABLE "authority_claims" (
    "id" UUID NOT NULL,
    "organisation_id" UUID NOT NULL,
    "role" TEXT NOT NULL,
    "authorisation_domain" TEXT NOT NULL,
    "authority_id" TEXT NOT NULL,
    "authority_name" TEXT NOT NULL,
    "authority_code" TEXT,
    "registration_id" TEXT,
    "member_states" TEXT[],
    "status" "RoleStatus" NOT NULL DEFAULT 'active',

    CONSTRAINT "authority_claims_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "authority_claims_organisation_id_idx" ON "authority_claims"("organisation_id");

-- CreateIndex
CREATE UNIQUE INDEX "authority_claims_organisation_id_role_authorisation_domain__key" ON "authority_claims"("organisation_id", "role", "authorisation_domain", "authority_id");

-- AddForeignKey
ALTER TABLE "authority_claims" ADD CONSTRAINT "authority_claims_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
