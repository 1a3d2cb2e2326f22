<?php
// Where an application built with composer has its autoloader, which artisan (and the
// queue-lanes worker entry point, as artisan does) requires: here Debian's Laravel and the app's classes.
require dirname(__DIR__) . '/bootstrap/autoload.php';
