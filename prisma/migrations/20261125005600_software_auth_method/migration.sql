-- AlterTable
ALTER TABLE "software_statements" ADD COLUMN     "token_endpoint_auth_method" TEXT NOT NULL DEFAULT 'private_key_jwt';
