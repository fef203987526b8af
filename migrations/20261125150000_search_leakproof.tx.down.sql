DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION cube_contained(cube, cube) NOT LEAKPROOF;
        ALTER FUNCTION cube_distance(cube, cube) NOT LEAKPROOF;
    END IF;
END
$$;
