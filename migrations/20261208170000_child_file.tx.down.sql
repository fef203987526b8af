DROP TABLE child_file_access;
DROP TABLE child_file_note;
DROP TABLE child_file;
