-- Whether a verdict rested on a member's own sign-in (their token read the follows) rather
-- than on what anyone can read. Every earlier verdict rested on public reads.
ALTER TABLE checks ADD COLUMN member_sign_in BOOLEAN NOT NULL DEFAULT FALSE;
