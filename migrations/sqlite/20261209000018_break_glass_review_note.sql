-- The reviewer's note on a break-glass grant (officer console), sealed
-- under the citizen's data key like the justification (bound to
-- break_glass/<grant_id>/review_note, version 1); null once the citizen
-- was erased before the review.
alter table break_glass add column review_note blob;
