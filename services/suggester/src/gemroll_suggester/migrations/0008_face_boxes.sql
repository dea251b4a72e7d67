-- Where the faces are in each photo (classifier, contracts 1.6.0): 4 numbers per face (left,
-- top, right, bottom; fractions of the image), largest face first; NULL when not known (an
-- older classification, a video). Boxes only: no face embedding or identity exists anywhere.
ALTER TABLE media ADD COLUMN face_boxes double precision[];
