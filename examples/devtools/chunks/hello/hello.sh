#!/bin/sh
echo "hello from dazzlekit ${HELLO_OPTS}"
