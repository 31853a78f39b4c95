-- Whether a verdict rested on a member's own sign-in (their token read the follows) rather
-- than on what anyone can read: 1 or 0. Every earlier verdict rested on public reads.
ALTER TABLE checks ADD COLUMN member_sign_in INTEGER NOT NULL DEFAULT 0
    CHECK (member_sign_in IN (0, 1));
